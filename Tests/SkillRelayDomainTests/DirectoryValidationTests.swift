import Testing

@testable import SkillRelayDomain

@Suite struct DirectoryValidationTests {
    @Test(arguments: ["a", "maria.gonzalez", "j_doe-2", String(repeating: "x", count: 64)])
    func acceptsHandles(_ handle: String) {
        #expect(DirectoryValidation.isValidHandle(handle))
    }

    @Test(arguments: ["", "Maria", "a b", "ümlaut", "semi;colon", String(repeating: "x", count: 65)])
    func refusesHandles(_ handle: String) {
        #expect(!DirectoryValidation.isValidHandle(handle))
    }

    @Test(arguments: ["k8s", "ci-cd", "0day"])
    func acceptsSlugs(_ slug: String) {
        #expect(DirectoryValidation.isValidSlug(slug))
    }

    @Test(arguments: ["", "-lead", "C++", "a.b", "a/b", "a b"])
    func refusesSlugs(_ slug: String) {
        #expect(!DirectoryValidation.isValidSlug(slug))
    }

    @Test func refusesAManagerWhoIsTheEmployeeThemselves() {
        let employee = Employee(handle: "ada", name: "Ada", email: "ada@example.org", managerHandle: "ada")
        #expect(throws: DirectoryError.managerCycle("ada")) { try employee.validated() }
    }

    @Test func trimsTextAndRefusesEmptyNames() throws {
        let topic = try Topic(slug: "sql", name: "  SQL ", description: " Queries ", aliases: ["tsql", "ansi"]).validated()
        #expect(topic.name == "SQL")
        #expect(topic.aliases == ["ansi", "tsql"])
        #expect(throws: DirectoryError.invalidField("name", "must not be empty")) { try Topic(slug: "sql", name: " ").validated() }
    }
}
