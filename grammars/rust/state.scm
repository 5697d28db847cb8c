; State a method writes, for interference: fields through `self` (`self.count = ...`,
; `self.count += 1`); the receiver is the `self` parameter.
(assignment_expression left: (field_expression) @write.target) @write
(compound_assignment_expr left: (field_expression) @write.target) @write

; How the language's text shows what is no assignment, for interference's byte prefilter
; (settle/diff/interference.py, _Lexicon): its one-line string quotes and line comment (an `=`
; in either is none), the keywords that declare (what they declare is no write). A `'` opens a
; lifetime as often as a char: not a quote here.
; prefilter quotes: "
; prefilter line-comment: //
; prefilter declares: let
