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

extension ImportFiles {
    /// Writes a synthetic company's three CSV files into a directory (created if needed), streaming them in 1 MiB chunks.
    public static func write(_ company: SyntheticDirectory, to directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try stream(to: url.appendingPathComponent(ImportBatch.File.employees.rawValue), company.employeesCSV)
        try stream(to: url.appendingPathComponent(ImportBatch.File.topics.rawValue), company.topicsCSV)
        try stream(to: url.appendingPathComponent(ImportBatch.File.skills.rawValue), company.skillsCSV)
    }

    private static func stream(to url: URL, _ produce: ((String) -> Void) -> Void) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var buffer = ""
        buffer.reserveCapacity(1 << 20)
        produce { line in
            buffer += line
            if buffer.utf8.count >= 1 << 20 {
                handle.write(Data(buffer.utf8))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(Data(buffer.utf8))
    }
}
