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

} // namespace ms
