; Spans the extractor needs besides definitions and calls. Name uses are found
; by scanning each symbol's own text for identifier chains (much cheaper than
; capturing every identifier); these captures tell that scan what to skip.

(comment) @comment

; Literal parts of strings (docstrings included); f-string interpolations stay
; visible to the scan because they are not string_content.
(string_content) @string

; Python's blocks are delimited by indentation only: their boundaries enter the
; body hash so that moving a statement out of an `if` is an edit while
; re-indenting the whole function is not.
(block) @block
