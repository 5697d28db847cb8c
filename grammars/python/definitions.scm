; Definitions. @definition.<kind> is the whole definition; @name names it.
; A function nested directly in a class becomes a method (profile: member_kinds).

(function_definition
  "async"? @async
  name: (identifier) @name
  parameters: (parameters) @parameters
  return_type: (_)? @return_type
  body: (block) @body) @definition.function

(class_definition
  name: (identifier) @name
  body: (block) @body) @definition.class

; Decorators belong to the decorated definition, whose span starts at the first
; decorator so that an added decorator is an edit of the symbol.
(decorated_definition
  (decorator) @decorator
  definition: (_) @decorated) @decoration

; Module- and class-level assignments name variables and fields; assignments
; inside functions are locals, not symbols.
(module
  (expression_statement
    (assignment left: (identifier) @name) @definition.variable))

(class_definition
  body: (block
    (expression_statement
      (assignment left: (identifier) @name) @definition.field)))

; A docstring: a string statement first in a definition's body. Editing one
; changes what the symbol says, not what it does (concurrent_edit skips it).
(function_definition
  body: (block . (expression_statement (string) @docstring))) @docstring.owner

(class_definition
  body: (block . (expression_statement (string) @docstring))) @docstring.owner
