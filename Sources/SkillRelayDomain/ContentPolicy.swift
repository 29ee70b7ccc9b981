import Foundation

/// One content rule: text matching `pattern` (a regular expression) is refused.
public struct ContentRule: Sendable, Equatable, Codable {
    public var name: String
    public var pattern: String

    public init(name: String, pattern: String) {
        self.name = name
        self.pattern = pattern
    }

    /// The sample rules: payment card numbers and private-key blocks.
    public static let defaults: [ContentRule] = [
        ContentRule(name: "card-number", pattern: #"\b(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|3[47]\d{2}|6011)(?:[ -]?\d{4}){2}[ -]?\d{3,4}\b"#),
        ContentRule(name: "private-key", pattern: #"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"#),
    ]
}

/// The content policy: refuses questions and answers that match a rule.
public struct ContentPolicy: Sendable {
    // NSRegularExpression is immutable once made and documented as safe to share between threads.
    private struct Compiled: @unchecked Sendable {
        var name: String
        var expression: NSRegularExpression
    }

    private let rules: [Compiled]

    /// Compiles the rules; a pattern that is not a regular expression is an error naming the rule.
    public init(rules: [ContentRule]) throws(DirectoryError) {
        var compiled: [Compiled] = []
        for rule in rules {
            guard let expression = try? NSRegularExpression(pattern: rule.pattern) else {
                throw .invalidField("contentRules.\(rule.name)", "is not a valid regular expression")
            }
            compiled.append(Compiled(name: rule.name, expression: expression))
        }
        self.rules = compiled
    }

    /// The name of the first rule the text breaks, or `nil`.
    public func violation(in text: String) -> String? {
        let range = NSRange(text.startIndex..., in: text)
        return rules.first { $0.expression.firstMatch(in: text, range: range) != nil }?.name
    }
}
