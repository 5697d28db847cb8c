(line_comment) @comment
(block_comment) @comment
(string_fragment) @string
