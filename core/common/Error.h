#pragma once

#include <QString>

#include <stdexcept>

namespace ms {

// An error a person can act on: it says what is wrong and what to do about it.
// Thrown inside the core; caught at the job or command boundary and shown as one line.
class Error : public std::runtime_error
{
public:
    explicit Error(const QString &message)
        : std::runtime_error(message.toStdString())
        , m_message(message)
    {}

    QString message() const { return m_message; }

private:
    QString m_message;
};

// The one line to show for anything caught at a boundary: an ms::Error's own message, else
// what the exception says (a std::bad_alloc, a torch error that slipped through).
inline QString errorMessage(const std::exception &e)
{
    if (const auto *error = dynamic_cast<const Error *>(&e))
        return error->message();
    return QString::fromUtf8(e.what());
}

} // namespace ms
