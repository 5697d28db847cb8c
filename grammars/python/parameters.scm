; One match per parameter, with @list the parameter list it belongs to, so that
; a lambda inside a default value never lends its parameters to the function.

(parameters (identifier) @parameter.name @parameter) @list

(parameters
  (typed_parameter (identifier) @parameter.name type: (_) @parameter.type) @parameter) @list

(parameters
  (default_parameter name: (identifier) @parameter.name value: (_) @parameter.default) @parameter) @list

(parameters
  (typed_default_parameter
    name: (identifier) @parameter.name
    type: (_) @parameter.type
    value: (_) @parameter.default) @parameter) @list

(parameters (list_splat_pattern (identifier) @parameter.name) @parameter.variadic) @list
(parameters
  (typed_parameter (list_splat_pattern (identifier) @parameter.name) type: (_) @parameter.type) @parameter.variadic) @list

(parameters (dictionary_splat_pattern (identifier) @parameter.name) @parameter.keywords) @list
(parameters
  (typed_parameter (dictionary_splat_pattern (identifier) @parameter.name) type: (_) @parameter.type) @parameter.keywords) @list

; `/` ends the positional-only parameters; a bare `*` starts the keyword-only ones.
(parameters (positional_separator) @separator.positional_only) @list
(parameters (keyword_separator) @separator.keyword_only) @list
