"""Rules as Excel sees them: native rules written into a workbook package, the Office.js payload,
styles, and the checks a workbook passes before it is opened."""
