; State a function writes, for interference: struct fields through a selector
; (`s.count = ...`, `s.count++`) and plain names, which interference counts only
; where they name a package-level variable.
(assignment_statement left: (expression_list (selector_expression) @write.target)) @write
(assignment_statement left: (expression_list (identifier) @write.target)) @write
(inc_statement (selector_expression) @write.target) @write
(dec_statement (selector_expression) @write.target) @write
(inc_statement (identifier) @write.target) @write
(dec_statement (identifier) @write.target) @write

; Go names its receiver per method (`func (s *Store) Add`): `s.` is that method's self.
(method_declaration
  receiver: (parameter_list (parameter_declaration name: (identifier) @receiver.name))) @receiver

; How the language's text shows what is no assignment, for interference's byte prefilter
; (settle/diff/interference.py, _Lexicon): its one-line string quotes and line comment (an `=`
; in either is none), the keywords that declare (what they declare is no write), and what a
; list of targets runs on to the next line after (`a.x,\n\tb.y = 1, 2`).
; prefilter quotes: " ' `
; prefilter line-comment: //
; prefilter declares: var
; prefilter targets-continue: ,
