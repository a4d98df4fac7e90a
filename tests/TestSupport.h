#pragma once

// Small helpers the unit tests share.

#include "common/Error.h"

#include <QString>

namespace ms::test {

// The message of the ms::Error `action` throws, or an empty string when it throws none; lets a
// test check a refusal's words with one QVERIFY.
template <typename Action>
QString errorOf(Action &&action)
{
    try {
        action();
    } catch (const ms::Error &error) {
        return error.message();
    }
    return QString();
}

} // namespace ms::test
