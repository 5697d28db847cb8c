; State a function writes, for interference: attributes (`self.x = ...`,
; `self.x += ...`, `self.a, self.b = ...`) and module variables — assigned at
; module level, or declared `global` in a function (the declaration stands for
; the assignments it allows: locals are not state).
(assignment left: (attribute) @write.target) @write
(assignment left: (pattern_list (attribute) @write.target)) @write
(augmented_assignment left: (attribute) @write.target) @write
(module (expression_statement (assignment left: (identifier) @write.target) @write))
(module (expression_statement (augmented_assignment left: (identifier) @write.target) @write))
(global_statement (identifier) @write.target) @write

; How the language's text shows what is no assignment, for interference's byte prefilter
; (settle/diff/interference.py, _Lexicon): its one-line string quotes and line comment (an `=`
; in either is none), the keywords that declare (what they declare is no write), and those
; whose names are all written.
; prefilter quotes: " '
; prefilter line-comment: #
; prefilter writes-names: global
