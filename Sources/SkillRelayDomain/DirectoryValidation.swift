/// Format rules for the directory's identifiers and values, shared by the API, the CLI and the import.
public enum DirectoryValidation {
    /// Skill levels run from 1 (some knowledge) to 5 (the company's expert).
    public static let levels: ClosedRange<Int> = 1...5

    /// A handle is 1 to 64 of `a-z`, `0-9`, `.`, `_` and `-`.
    public static func isValidHandle(_ handle: String) -> Bool {
        (1...64).contains(handle.utf8.count)
            && handle.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A topic slug or alias is 1 to 64 of `a-z`, `0-9` and `-`, starting with a letter or digit, so it is safe in a URL path.
    public static func isValidSlug(_ slug: String) -> Bool {
        guard let first = slug.utf8.first, isLowerAlphanumeric(first), slug.utf8.count <= 64 else { return false }
        return slug.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// A Matrix-style IM id: `@localpart:server`.
    public static func isValidIMID(_ imID: String) -> Bool {
        guard imID.utf8.count <= 255, imID.hasPrefix("@"), let colon = imID.firstIndex(of: ":") else { return false }
        let localpart = imID[imID.index(after: imID.startIndex)..<colon]
        let server = imID[imID.index(after: colon)...]
        return !localpart.isEmpty && !server.isEmpty && !imID.contains(where: \.isWhitespace)
    }

    /// A plausible e-mail address: one `@` with text on both sides and no spaces.
    public static func isValidEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return email.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !email.contains(where: \.isWhitespace)
    }

    /// A display name, topic name or description: trimmed, not empty, one line, at most `maxLength` characters.
    public static func cleanText(_ text: String, field: String, maxLength: Int, allowEmpty: Bool = false) throws(DirectoryError) -> String {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty && !allowEmpty { throw .invalidField(field, "must not be empty") }
        if trimmed.count > maxLength { throw .invalidField(field, "must be at most \(maxLength) characters") }
        if trimmed.contains(where: \.isNewline) { throw .invalidField(field, "must be one line") }
        return trimmed
    }

    /// Checks a skill level.
    public static func checkLevel(_ level: Int) throws(DirectoryError) {
        guard levels.contains(level) else { throw .invalidLevel(level) }
    }

    /// Checks a handle.
    public static func checkHandle(_ handle: String) throws(DirectoryError) {
        guard isValidHandle(handle) else { throw .invalidHandle(handle) }
    }

    /// Checks a topic slug.
    public static func checkSlug(_ slug: String) throws(DirectoryError) {
        guard isValidSlug(slug) else { throw .invalidSlug(slug) }
    }

    /// Checks a topic alias.
    public static func checkAlias(_ alias: String) throws(DirectoryError) {
        guard isValidSlug(alias) else { throw .invalidAlias(alias) }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension String {
    /// The string without leading and trailing white space and newlines.
    package func trimmingWhitespace() -> String {
        guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[start...end])
    }
}
