import Foundation
import SkillRelayDomain

/// Reads an import directory's CSV files.
public enum ImportFiles {
    /// A directory or file that cannot be read.
    public struct ReadError: Error, Sendable {
        public var message: String
    }

    /// Parses whichever of `employees.csv`, `topics.csv` and `skills.csv` the directory holds.
    public static func read(directory: String) throws -> ImportBatch {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReadError(message: "'\(directory)' is not a directory.")
        }
        var files: [ImportBatch.File: String] = [:]
        for file in ImportBatch.File.allCases {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(file.rawValue).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(message: "Cannot read \(path).") }
            guard let text = String(data: data, encoding: .utf8) else { throw ReadError(message: "\(path) is not UTF-8 text.") }
            files[file] = text
        }
        return try ImportBatch.parse(files: files)
    }
}
