import Foundation

/// What a value in the config file may be; `problems(in:at:)` lists every way a value is not that, by dotted path.
enum ConfigShape: Sendable {
    /// A whole number in a range (`nil` upper bound: no upper bound).
    case integer(minimum: Int, maximum: Int?)
    /// A number, whole or not, more than `above` and at most `maximum`.
    case number(above: Double, maximum: Double)
    case boolean
    case string(StringRule)
    /// A list whose every element has the shape.
    indirect case array(ConfigShape)
    /// An object with these keys (in the order messages list them), of which `required` must be present.
    indirect case object([(key: String, shape: ConfigShape)], required: Set<String> = [])

    /// What a string must be beyond a string.
    enum StringRule: Sendable {
        case any
        case httpURL
        case regularExpression
        /// One of these words.
        case oneOf([String])
    }

    static func integer(atLeast minimum: Int) -> ConfigShape { .integer(minimum: minimum, maximum: nil) }
    static func integer(in range: ClosedRange<Int>) -> ConfigShape { .integer(minimum: range.lowerBound, maximum: range.upperBound) }

    /// Every problem with `value`, each starting with its key's dotted path (`matrix.sendConcurrency`,
    /// `contentRules[0].pattern`); empty when the value fits.
    func problems(in value: JSONValue, at path: String) -> [String] {
        let key = path.isEmpty ? "the file" : path
        switch (self, value) {
        case (.integer(let minimum, let maximum), .integer(let number)):
            let fits = number >= minimum && maximum.map { number <= $0 } ?? true
            return fits ? [] : ["\(key): \(number) is out of range; it must be \(expectation)."]
        case (.number(let above, let maximum), .integer(let whole)):
            let number = Double(whole)
            return number > above && number <= maximum ? [] : ["\(key): \(whole) is out of range; it must be \(expectation)."]
        case (.number(let above, let maximum), .number(let number)):
            return number > above && number <= maximum ? [] : ["\(key): \(number) is out of range; it must be \(expectation)."]
        case (.boolean, .boolean):
            return []
        case (.string(let rule), .string(let text)):
            return rule.accepts(text) ? [] : ["\(key): \(value) is not \(rule.expectation)."]
        case (.array(let element), .array(let items)):
            return items.enumerated().flatMap { index, item in element.problems(in: item, at: "\(path)[\(index)]") }
        case (.object(let fields, let required), .object(let members)):
            var problems: [String] = []
            let known = fields.map(\.key)
            for name in members.keys.sorted() {
                let child = path.isEmpty ? name : "\(path).\(name)"
                if let shape = fields.first(where: { $0.key == name })?.shape {
                    problems += shape.problems(in: members[name]!, at: child)
                } else {
                    let guess = Self.nearest(to: name, among: known).map { " Did you mean '\($0)'?" } ?? ""
                    problems.append("\(child): not a key this version knows.\(guess) Known keys here: \(known.joined(separator: ", ")).")
                }
            }
            for (name, shape) in fields where required.contains(name) && members[name] == nil {
                problems.append("\(path.isEmpty ? name : "\(path).\(name)"): missing; it must be \(shape.expectation).")
            }
            return problems
        default:
            return ["\(key): \(value) is not \(expectation)."]
        }
    }

    /// What a value of this shape is, in words.
    var expectation: String {
        switch self {
        case .integer(let minimum, nil): "a whole number of at least \(minimum)"
        case .integer(let minimum, let maximum?): "a whole number from \(minimum) to \(maximum)"
        case .number(let above, let maximum): "a number more than \(above.formatted()) and at most \(maximum.formatted())"
        case .boolean: "true or false"
        case .string(let rule): rule.expectation
        case .array(let element): "a list, each element \(element.expectation)"
        case .object(let fields, _): "an object with any of the keys \(fields.map(\.key).joined(separator: ", "))"
        }
    }

    /// The known key a misspelt one most likely meant: the same but for case, at most two edits away, or else the one
    /// that begins the same way for most of its length (`presenceTimeoutMs` for `presenceTimeoutMilliseconds`).
    static func nearest(to name: String, among known: [String]) -> String? {
        let lowered = name.lowercased()
        if let same = known.first(where: { $0.lowercased() == lowered }) { return same }
        let close = known.map { ($0, editDistance($0.lowercased(), lowered)) }.filter { $0.1 <= 2 }
        if let closest = close.min(by: { $0.1 < $1.1 }) { return closest.0 }
        let prefixes = known.map { key in (key, zip(key.lowercased(), lowered).prefix { $0 == $1 }.count) }
        guard let best = prefixes.max(by: { $0.1 < $1.1 }), best.1 * 4 >= lowered.count * 3,
            prefixes.filter({ $0.1 == best.1 }).count == 1
        else { return nil }
        return best.0
    }

    /// Levenshtein distance: insertions, deletions and substitutions of one character.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension ConfigShape.StringRule {
    func accepts(_ text: String) -> Bool {
        switch self {
        case .any:
            return true
        case .httpURL:
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
            return ["http", "https"].contains(scheme) && url.host != nil
        case .regularExpression:
            return (try? NSRegularExpression(pattern: text)) != nil
        case .oneOf(let words):
            return words.contains(text)
        }
    }

    var expectation: String {
        switch self {
        case .any: "a string"
        case .httpURL: "an http or https URL (a string such as \"https://matrix.example.org\")"
        case .regularExpression: "a valid regular expression (a string)"
        case .oneOf(let words): "one of " + words.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }
}
