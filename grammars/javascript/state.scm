; State a function writes, for interference: members (`this.x = ...`, `this.x += ...`,
; `this.n++`) and plain names, which interference counts only where they name a
; module-level variable of the file.
(assignment_expression left: (member_expression) @write.target) @write
(augmented_assignment_expression left: (member_expression) @write.target) @write
(update_expression argument: (member_expression) @write.target) @write
(assignment_expression left: (identifier) @write.target) @write
(augmented_assignment_expression left: (identifier) @write.target) @write
(update_expression argument: (identifier) @write.target) @write
