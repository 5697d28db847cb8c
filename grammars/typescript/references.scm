(comment) @comment
(string_fragment) @string
