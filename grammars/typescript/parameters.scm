(formal_parameters
  (required_parameter pattern: (identifier) @parameter.name type: (type_annotation (_) @parameter.type)? !value) @parameter) @list
(formal_parameters
  (required_parameter pattern: (identifier) @parameter.name type: (type_annotation (_) @parameter.type)? value: (_) @parameter.default) @parameter) @list
(formal_parameters
  (optional_parameter pattern: (identifier) @parameter.name type: (type_annotation (_) @parameter.type)?) @parameter.default @parameter) @list
(formal_parameters
  (required_parameter pattern: (rest_pattern (_) @parameter.name) type: (type_annotation (_) @parameter.type)?) @parameter.variadic) @list
(formal_parameters
  (required_parameter pattern: [(object_pattern) (array_pattern)] type: (type_annotation (_) @parameter.type)?) @parameter) @list
; `this: C` declares the receiver's type; callers never pass it.
(formal_parameters
  (required_parameter pattern: (this) @parameter.name type: (type_annotation (_) @parameter.type)?) @parameter.receiver) @list
