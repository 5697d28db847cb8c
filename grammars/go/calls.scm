(call_expression function: (_) @call.callee arguments: (argument_list) @call.arguments) @call

; `f(xs...)` passes a slice: its arity is unknown.
(argument_list (variadic_argument) @argument.spread) @arguments
(argument_list (comment) @argument.ignored) @arguments
