; Each name is one parameter (`a, b int` is two); unnamed parameters count too.
(parameter_list
  (parameter_declaration name: (identifier) @parameter.name @parameter type: (_) @parameter.type)) @list
(parameter_list
  (parameter_declaration !name type: (_) @parameter.type @parameter)) @list
(parameter_list
  (variadic_parameter_declaration name: (identifier)? @parameter.name type: (_) @parameter.type) @parameter.variadic) @list
