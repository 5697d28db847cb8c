(comment) @comment
(interpreted_string_literal_content) @string
(raw_string_literal_content) @string
