import Foundation

extension QuestionService {
    /// Compliance entries from `since` (and before `until`), oldest first: admins only.
    public func complianceEntries(since: Date, until: Date?, by caller: Caller) async throws -> [ComplianceEntry] {
        try DirectoryPolicy.authorize(caller, to: .exportComplianceLog)
        if let until, until <= since { throw DirectoryError.invalidField("until", "must be after since") }
        return try await store.complianceEntries(since: since, until: until)
    }
}
