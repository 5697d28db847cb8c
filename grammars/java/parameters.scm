(formal_parameters (formal_parameter type: (_) @parameter.type name: (identifier) @parameter.name) @parameter) @list
(formal_parameters
  (spread_parameter [(type_identifier) (integral_type) (floating_point_type) (boolean_type) (generic_type) (scoped_type_identifier) (array_type)] @parameter.type
                    (variable_declarator name: (identifier) @parameter.name)) @parameter.variadic) @list
; `Foo this` only names the receiver's type.
(formal_parameters (receiver_parameter) @parameter.receiver) @list
