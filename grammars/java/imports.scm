; `import a.b.C;` binds C from a.b; `import static a.b.C.m;` binds m from a.b.C.
(import_declaration (scoped_identifier scope: (_) @import.module name: (identifier) @import.name)) @import
(import_declaration (scoped_identifier) @import.module (asterisk) @import.name) @import
