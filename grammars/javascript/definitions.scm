; JavaScript definitions (JSX included).

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function

(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.method

(field_definition property: [(property_identifier) (private_property_identifier)] @name) @definition.field
