(formal_parameters (identifier) @parameter.name @parameter) @list
(formal_parameters (assignment_pattern left: (_) @parameter.name right: (_) @parameter.default) @parameter) @list
(formal_parameters (rest_pattern (_) @parameter.name) @parameter.variadic) @list
(formal_parameters [(object_pattern) (array_pattern)] @parameter) @list
