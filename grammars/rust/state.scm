; State a method writes, for interference: fields through `self` (`self.count = ...`,
; `self.count += 1`); the receiver is the `self` parameter.
(assignment_expression left: (field_expression) @write.target) @write
(compound_assignment_expr left: (field_expression) @write.target) @write
