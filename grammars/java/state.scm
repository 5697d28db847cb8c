; State a method writes, for interference: fields (`this.count = ...`, `count = ...`
; where the class declares `count`, `this.count++`).
(assignment_expression left: (field_access) @write.target) @write
(assignment_expression left: (identifier) @write.target) @write
(update_expression (field_access) @write.target) @write
(update_expression (identifier) @write.target) @write
