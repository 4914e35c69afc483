"""The CF rule language: grammar-checked parsing, canonical printing, explanations, execution on a
table, and native Excel / Office.js rules. Imports only the standard library, lark, openpyxl and
defusedxml; the models (codefusion) and the web service (cf_service) build on it."""
