; Calls with their argument shape. Positional arguments are counted as the
; argument list's named children minus the keyword, spread and ignored ones.
(call
  function: (_) @call.callee
  arguments: (argument_list) @call.arguments) @call

; `f(x for x in y)`: the generator is the whole argument list and one argument.
(call
  function: (_) @call.callee
  arguments: (generator_expression) @call.arguments @call.single_argument) @call

(argument_list (keyword_argument name: (identifier) @argument.keyword) @argument.named) @arguments
(argument_list (list_splat) @argument.spread) @arguments
(argument_list (dictionary_splat) @argument.spread) @arguments
(argument_list (comment) @argument.ignored) @arguments
