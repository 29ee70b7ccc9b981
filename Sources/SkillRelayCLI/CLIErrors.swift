import ArgumentParser
import Foundation
import SkillRelayDomain
import SkillRelayStore

/// Turns the errors a command can meet into a message on standard error and exit status 1.
enum CLIErrors {
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DirectoryError {
            fail(error.message)
        } catch let error as ImportFailure {
            fail("The import changed nothing; fix these and run it again:\n\(error.description)")
        } catch let error as ImportFiles.ReadError {
            fail(error.message)
        } catch let error as ExitCode {
            throw error
        } catch {
            fail("\(error)")
        }
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("skillrelay: \(message)\n".utf8))
        exit(1)
    }
}
