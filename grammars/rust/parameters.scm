(parameters (parameter pattern: (_) @parameter.name type: (_) @parameter.type) @parameter) @list
; `self`, `&self`, `&mut self`: method calls (`obj.m()`) don't pass it.
(parameters (self_parameter (self) @parameter.name) @parameter.receiver) @list
