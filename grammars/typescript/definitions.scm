; TypeScript definitions: JavaScript's, with type names, plus interfaces,
; type aliases, enums, abstract members and overload signatures.

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  return_type: (type_annotation (_) @return_type)?
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

; Overload signatures: same-named callables get their parameter types in the id.
(function_signature
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  return_type: (type_annotation (_) @return_type)?) @definition.function

(class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class
(abstract_class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name
  parameters: (formal_parameters) @parameters
  return_type: (type_annotation (_) @return_type)?
  body: (statement_block) @body) @definition.method

[(method_signature name: (property_identifier) @name parameters: (formal_parameters) @parameters
                    return_type: (type_annotation (_) @return_type)?)
 (abstract_method_signature name: (property_identifier) @name parameters: (formal_parameters) @parameters
                    return_type: (type_annotation (_) @return_type)?)] @definition.method

(public_field_definition name: [(property_identifier) (private_property_identifier)] @name) @definition.field
(property_signature name: (property_identifier) @name) @definition.field

(interface_declaration name: (type_identifier) @name body: (interface_body) @body) @definition.interface
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.enum
(enum_body name: (property_identifier) @name @definition.constant)
(enum_body (enum_assignment name: (property_identifier) @name) @definition.constant)

; Function bindings, object methods, `export default` and module variables: javascript/bindings.scm.
