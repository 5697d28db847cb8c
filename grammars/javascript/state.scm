; State a function writes, for interference: members (`this.x = ...`, `this.x += ...`,
; `this.n++`) and plain names, which interference counts only where they name a
; module-level variable of the file.
(assignment_expression left: (member_expression) @write.target) @write
(augmented_assignment_expression left: (member_expression) @write.target) @write
(update_expression argument: (member_expression) @write.target) @write
(assignment_expression left: (identifier) @write.target) @write
(augmented_assignment_expression left: (identifier) @write.target) @write
(update_expression argument: (identifier) @write.target) @write

; How the language's text shows what is no assignment, for interference's byte prefilter
; (settle/diff/interference.py, _Lexicon): its one-line string quotes and line comment (an `=`
; in either is none), the keywords that declare (what they declare is no write). TypeScript reads these too.
; prefilter quotes: " ' `
; prefilter line-comment: //
; prefilter declares: const let var
