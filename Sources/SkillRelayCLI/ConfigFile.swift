import Foundation
import SkillRelayDomain

/// The JSON config file (`--config FILE`), checked against what this version knows before anything is read from it: an
/// unknown key (a misspelling, or a key of another version), a value of the wrong type or out of range refuses the file,
/// naming each such key by its dotted path and what it may be. A default silently standing in for a mistyped key is
/// how a company ends up with settings nobody chose.
struct ConfigFile {
    /// The question settings the file sets, over the defaults.
    var settings = QuestionSettings()
    /// The file's `matrix` section, if it has one.
    var matrix: MatrixSettings?
    /// The database (`database`: a SQLite path, `sqlite:PATH` or a `postgres://` URL), under `--db` and
    /// `SKILLRELAY_DATABASE_URL`.
    var database: String?

    /// A config file that cannot be used: every problem in it, each naming its key.
    struct Invalid: Error, CustomStringConvertible {
        var path: String
        var problems: [String]

        var description: String {
            "The config file '\(path)' is not valid:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
        }
    }

    /// Reads and checks the file at `path`.
    static func load(path: String) throws(Invalid) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(path: path, problems: ["it cannot be read (no such file, or not allowed)"])
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw Invalid(path: path, problems: ["it is not JSON (\(Self.describe(error)))"])
        }
        let problems = schema.problems(in: value, at: "")
        guard problems.isEmpty else { throw Invalid(path: path, problems: problems) }
        // The shape is right; now the types that read it, and the domain's own check of the values together.
        struct File: Decodable {
            var matrix: MatrixSettings?
            var database: String?
        }
        do {
            let settings = try JSONDecoder().decode(QuestionSettings.self, from: data).validated()
            let file = try JSONDecoder().decode(File.self, from: data)
            if let database = file.database {
                do {
                    _ = try DatabaseChoice(parsing: database, from: "database")
                } catch {
                    throw Invalid(path: path, problems: [error.description])
                }
            }
            return ConfigFile(settings: settings, matrix: file.matrix, database: file.database)
        } catch let error as Invalid {
            throw error
        } catch let error as DirectoryError {
            throw Invalid(path: path, problems: [error.message])
        } catch {
            throw Invalid(path: path, problems: [Self.describe(error)])
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard case DecodingError.dataCorrupted(let context) = error else { return "\(error)" }
        let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return underlying ?? context.debugDescription
    }

    // MARK: - What the file may hold

    /// Every key this version reads, with its type and range. The question settings' ranges are the ones
    /// `QuestionSettings.validated()` enforces (it runs too, after this check, so the two cannot silently disagree);
    /// the matrix section's are checked here only.
    static let schema = ConfigShape.object(
        [
            ("waveSize", .integer(atLeast: 1)),
            ("waveIntervalSeconds", .integer(atLeast: 1)),
            ("maxWaves", .integer(atLeast: 1)),
            ("deadlineSeconds", .integer(atLeast: 1)),
            ("defaultMaxAnswers", .integer(in: 1...10)),
            ("allowAwayInLaterWaves", .boolean),
            ("hourlyBudget", .integer(atLeast: 1)),
            ("dailyBudget", .integer(atLeast: 1)),
            ("presencePoolSize", .integer(atLeast: 1)),
            ("minimumLevel", .integer(in: DirectoryValidation.levels)),
            ("asksPerMinute", .integer(atLeast: 1)),
            ("maxTextLength", .integer(atLeast: 1)),
            ("retentionDays", .integer(atLeast: 1)),
            ("maxDeliveryLagSeconds", .integer(atLeast: 1)),
            ("routing", .string(.oneOf(RoutingPolicy.allCases.map(\.rawValue)))),
            ("learningHalfLifeDays", .number(above: 0, maximum: 3650)),
            ("timelyAnswerSeconds", .integer(atLeast: 1)),
            ("waveConfidence", .number(above: 0, maximum: QuestionSettings.maxWaveConfidence)),
            ("anonymityK", .integer(atLeast: 1)),
            ("followUpDays", .integer(atLeast: 1)),
            ("database", .string(.any)),
            (
                "contentRules",
                .array(.object([("name", .string(.any)), ("pattern", .string(.regularExpression))], required: ["name", "pattern"]))
            ),
            (
                "matrix",
                .object([
                    ("homeserver", .string(.httpURL)),
                    ("accessToken", .string(.any)),
                    ("presenceConcurrency", .integer(atLeast: 1)),
                    ("presenceTimeoutMilliseconds", .integer(atLeast: 1)),
                    ("presenceCacheSeconds", .integer(atLeast: 0)),
                    ("sendConcurrency", .integer(atLeast: 1)),
                    ("sendBacklogConcurrency", .integer(atLeast: 1)),
                    ("pickleKey", .string(.any)),
                    ("encryptRooms", .boolean),
                ])
            ),
        ])
}
