; TSX only: text between JSX tags is not code.
(jsx_text) @string
