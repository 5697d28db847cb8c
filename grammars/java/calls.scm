; `obj.m(x)` is written as object + name: the callee is "obj.m".
(method_invocation object: (_) @call.object name: (identifier) @call.callee arguments: (argument_list) @call.arguments) @call
(method_invocation !object name: (identifier) @call.callee arguments: (argument_list) @call.arguments) @call
(object_creation_expression type: (_) @call.callee arguments: (argument_list) @call.arguments) @call
(argument_list (line_comment) @argument.ignored) @arguments
(argument_list (block_comment) @argument.ignored) @arguments
