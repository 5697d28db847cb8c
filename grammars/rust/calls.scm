; `f(x)`, `a::b::f(x)`, `obj.m(x)`, `T::new(x)`, `f::<T>(x)` (the callee's
; generic arguments are dropped when the name is taken).
(call_expression function: (_) @call.callee arguments: (arguments) @call.arguments) @call
(arguments (line_comment) @argument.ignored) @arguments
(arguments (block_comment) @argument.ignored) @arguments
