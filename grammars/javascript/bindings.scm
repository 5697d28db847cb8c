; Names bound to functions and values, shared by JavaScript and TypeScript.

; `const f = (a) => ...` and `const f = function (a) {...}`: the variable is the function.
(variable_declarator
  name: (identifier) @name
  value: [
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.function

; Arrow and function properties of object literals (`export const api = { put: (id) => ... }`).
(pair
  key: (property_identifier) @name
  value: [
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.method

; `export default function () {}`: the symbol is `default`.
(export_statement
  "default" @name
  value: [
    (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
    (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
  ]) @definition.function

; Module-level variables (a function-valued one is the function above: the
; extractor keeps the callable capture of a node).
(program (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable))
(program (variable_declaration (variable_declarator name: (identifier) @name) @definition.variable))
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable)))
