(call_expression function: (_) @call.callee arguments: (arguments) @call.arguments) @call
(new_expression constructor: (_) @call.callee arguments: (arguments) @call.arguments) @call

(arguments (spread_element) @argument.spread) @arguments
(arguments (comment) @argument.ignored) @arguments
