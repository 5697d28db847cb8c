; Rust definitions. `impl T` and `impl Trait for T` qualify their functions as
; T's methods through @scope (upstream tags.scm tags them twice, as functions).

(function_item
  name: (identifier) @name
  parameters: (parameters) @parameters
  return_type: (_)? @return_type
  body: (block) @body) @definition.function

(function_signature_item
  name: (identifier) @name
  parameters: (parameters) @parameters
  return_type: (_)? @return_type) @definition.function

(impl_item
  type: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (scoped_type_identifier name: (type_identifier) @name)
  ]
  body: (declaration_list)) @scope

(struct_item name: (type_identifier) @name) @definition.struct
(field_declaration name: (field_identifier) @name) @definition.field
(enum_item name: (type_identifier) @name body: (enum_variant_list) @body) @definition.enum
(enum_variant name: (identifier) @name) @definition.constant
(trait_item name: (type_identifier) @name body: (declaration_list) @body) @definition.trait
; `mod a { ... }` nests: `a.f`.
(mod_item name: (identifier) @name body: (declaration_list) @body) @definition.module
(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.variable
(type_item name: (type_identifier) @name) @definition.type
; Macros are symbols by name; they take any tokens, so they have no signature.
(macro_definition name: (identifier) @name) @definition.function
