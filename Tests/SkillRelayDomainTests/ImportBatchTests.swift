import Testing

@testable import SkillRelayDomain

@Suite struct ImportBatchTests {
    @Test func parsesEveryFileIntoRowsWithTheirLines() throws {
        let batch = try ImportBatch.parse(files: [
            .employees:
                "handle,name,email,im_id,manager,admin,active\nada,Ada Lovelace,ada@example.org,@ada:localhost,,true,\nbob,Bob,bob@example.org,,ada,,false\n",
            .topics:
                "slug,name,parent,aliases,description\ninfra,Infrastructure,,,\"Servers, networks\"\nkubernetes,Kubernetes,infra,k8s;kube,Clusters\n",
            .skills: "handle,topic,level\nbob,k8s,4\n",
        ])
        #expect(batch.employees.map(\.line) == [2, 3])
        #expect(
            batch.employees[0].employee
                == Employee(handle: "ada", name: "Ada Lovelace", email: "ada@example.org", imID: "@ada:localhost", isAdmin: true))
        #expect(batch.employees[1].employee.managerHandle == "ada")
        #expect(batch.employees[1].employee.isActive == false)
        #expect(
            batch.topics[1].topic
                == Topic(slug: "kubernetes", name: "Kubernetes", description: "Clusters", parentSlug: "infra", aliases: ["k8s", "kube"]))
        #expect(batch.topics[0].topic.description == "Servers, networks")
        #expect(batch.skills == [ImportBatch.SkillRow(line: 2, handle: "bob", topic: "k8s", level: 4)])
    }

    @Test func listsEveryFormatProblemByFileAndLine() throws {
        let failure = #expect(throws: ImportFailure.self) {
            try ImportBatch.parse(files: [
                .employees:
                    "handle,name,email,manager\nAda!,Ada,ada@example.org,\neve,Eve,not-an-email,\ncy,Cy,cy@example.org\nbob,Bob,bob@example.org,\nbob,Bob,bob@example.org,\n",
                .skills: "handle,topic,level\nbob,k8s,7\nbob,k8s,x\n",
                .topics: "slug,name\n",
            ])
        }
        let problems = try #require(failure).problems.map(\.description)
        try #require(problems.count == 6)
        #expect(problems[0].hasPrefix("employees.csv:2: 'Ada!' is not a valid handle"))
        #expect(problems[1].hasPrefix("employees.csv:3: 'email' is not an e-mail address"))
        #expect(problems[2] == "employees.csv:4: 3 fields where the header has 4")
        #expect(problems[3] == "employees.csv:6: duplicate handle 'bob' (first on line 5)")
        #expect(problems[4].hasPrefix("skills.csv:2: Level 7 is out of range"))
        #expect(problems[5].hasPrefix("skills.csv:3: 'level' must be a whole number"))
    }

    @Test func readsTimeZonesAndWorkingHours() throws {
        let batch = try ImportBatch.parse(files: [
            .employees: """
            handle,name,email,timezone,working_hours
            ada,Ada,ada@example.org,Europe/Berlin,"Mon-Thu 08:00-16:00, Fri 08:00-12:00"
            bob,Bob,bob@example.org,,
            cy,Cy,cy@example.org,UTC,Mon-Fri 09:00-17:30

            """
        ])
        let people = batch.employees.map(\.employee)
        #expect(people[0].timeZone == "Europe/Berlin")
        #expect(people[0].workingHours?.description == "Mon-Thu 08:00-16:00, Fri 08:00-12:00")
        #expect(people[1].timeZone == nil && people[1].workingHours == nil)
        let weekdays = try WorkingHours(parsing: "Mon-Fri 09:00-17:30")
        #expect(people[2].timeZone == "UTC" && people[2].workingHours == weekdays)
    }

    @Test func refusesABadTimeZoneOrWorkingHoursByFileAndLine() throws {
        let failure = #expect(throws: ImportFailure.self) {
            try ImportBatch.parse(files: [
                .employees: """
                handle,name,email,timezone,working_hours
                ada,Ada,ada@example.org,Europe/Atlantis,
                bob,Bob,bob@example.org,GMT+2,
                cy,Cy,cy@example.org,Europe/Paris,Mon-Fri 17:00-09:00
                dee,Dee,dee@example.org,,weekdays

                """
            ])
        }
        let problems = try #require(failure).problems.map(\.description)
        #expect(
            problems == [
                "employees.csv:2: 'timezone' 'Europe/Atlantis' is not an IANA time zone name such as Europe/Berlin.",
                "employees.csv:3: 'timezone' 'GMT+2' is not an IANA time zone name such as Europe/Berlin.",
                "employees.csv:4: 'working_hours' '17:00-09:00' must end after it starts; a segment cannot cross midnight, so split it in two.",
                "employees.csv:5: 'working_hours' 'weekdays' is not of the form 'Mon-Fri 09:00-17:30'.",
            ])
    }

    @Test func refusesAMissingOrUnknownColumn() throws {
        let failure = #expect(throws: ImportFailure.self) {
            try ImportBatch.parse(files: [.skills: "handle,topic\nbob,k8s\n", .topics: "slug,name,colour\nx,X,red\n"])
        }
        #expect(
            try #require(failure).problems.map(\.description) == [
                "skills.csv:1: missing column(s): level", "topics.csv:1: unknown column 'colour'",
            ])
    }

    @Test func refusesAnEmptyImport() {
        #expect(throws: ImportFailure.self) { try ImportBatch.parse(files: [:]) }
    }
}
