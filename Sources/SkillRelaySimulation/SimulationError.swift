/// Why a simulation could not run.
public enum SimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The scenario file is wrong; `field` is its dotted path where known.
    case scenario(field: String?, String)
    /// The options are wrong (days, restart time).
    case option(name: String, String)
    /// The simulation's own counts disagree with the store's: a bug, never a result.
    case inconsistent(String)

    /// One line for a person.
    public var message: String {
        switch self {
        case .scenario(let field?, let message): "scenario field '\(field)' \(message)"
        case .scenario(nil, let message): "scenario \(message)"
        case .option(let name, let message): "\(name) \(message)"
        case .inconsistent(let message): "the simulation's counts disagree with the store's: \(message)"
        }
    }

    public var description: String { message }

    /// A JSON decoding error as the field it is about.
    static func describing(_ error: DecodingError) -> SimulationError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("") { result, key in
                if let index = key.intValue { return result + "[\(index)]" }
                return result.isEmpty ? key.stringValue : result + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return .scenario(field: parent.isEmpty ? key.stringValue : parent + "." + key.stringValue, "is missing")
        case .typeMismatch(let type, let context):
            return .scenario(field: path(context.codingPath), "must be \(Self.name(of: type))")
        case .valueNotFound(let type, let context):
            return .scenario(field: path(context.codingPath), "must be \(Self.name(of: type)), not null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .scenario(field: nil, "is not valid JSON") }
            return .scenario(field: path(context.codingPath), "has a value that is not allowed (\(context.debugDescription))")
        @unknown default:
            return .scenario(field: nil, "cannot be read")
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
    }
}
