(comment) @comment
(string_fragment) @string
(jsx_text) @string
