; State a method writes, for interference: fields (`this.count = ...`, `count = ...`
; where the class declares `count`, `this.count++`).
(assignment_expression left: (field_access) @write.target) @write
(assignment_expression left: (identifier) @write.target) @write
(update_expression (field_access) @write.target) @write
(update_expression (identifier) @write.target) @write

; How the language's text shows what is no assignment, for interference's byte prefilter
; (settle/diff/interference.py, _Lexicon): its one-line string quotes and line comment (an `=`
; in either is none), the keywords that declare (what they declare is no write).
; prefilter quotes: " '
; prefilter line-comment: //
