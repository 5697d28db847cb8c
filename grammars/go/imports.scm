; `import "a/b"` binds b (profile: import_path_separator); an alias binds itself.
(import_spec !name path: (interpreted_string_literal (interpreted_string_literal_content) @import.module)) @import
(import_spec
  name: (package_identifier) @import.alias
  path: (interpreted_string_literal (interpreted_string_literal_content) @import.module)) @import
; A dot import makes the package's names local: a wildcard.
(import_spec
  name: (dot) @import.name
  path: (interpreted_string_literal (interpreted_string_literal_content) @import.module)) @import
