#pragma once

// Private to core/data: what TextDatasetRegistry asks of the CSV reader beyond canRead().

#include <QString>

namespace ms::textcsv {

// True when `path` is a .csv/.tsv file whose first rows hold a column of text besides the label
// column: `labelColumn` (header name or 0-based index) when given and present, else the one
// CsvReader would take. A numeric table with a text label is not text, wherever its label is.
bool isTextCsv(const QString &path, const QString &labelColumn);

} // namespace ms::textcsv
