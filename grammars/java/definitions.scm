; Java definitions. Constructors are named after their class (`Store.Store`);
; overloaded names carry their parameter types (`Store.count(String,boolean)`).

(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class
(interface_declaration name: (identifier) @name body: (interface_body) @body) @definition.interface
(annotation_type_declaration name: (identifier) @name body: (_) @body) @definition.interface
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.enum
(enum_constant name: (identifier) @name) @definition.constant
(record_declaration name: (identifier) @name body: (class_body) @body) @definition.class
; Record components are the record's fields.
(record_declaration parameters: (formal_parameters (formal_parameter name: (identifier) @name) @definition.field))

(method_declaration
  type: (_) @return_type
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (block)? @body) @definition.method

(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (constructor_body) @body) @definition.method

; One field per declarator: `int a, b;` declares two.
(field_declaration (variable_declarator name: (identifier) @name)) @definition.field
(constant_declaration (variable_declarator name: (identifier) @name)) @definition.constant

; Annotations belong to what they annotate.
((method_declaration (modifiers [(marker_annotation) (annotation)] @decorator)) @decoration @decorated)
((constructor_declaration (modifiers [(marker_annotation) (annotation)] @decorator)) @decoration @decorated)
((class_declaration (modifiers [(marker_annotation) (annotation)] @decorator)) @decoration @decorated)
((field_declaration (modifiers [(marker_annotation) (annotation)] @decorator)) @decoration @decorated)
