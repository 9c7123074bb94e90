using Orchestrator.Http;

namespace Orchestrator.Tests.Http;

/// <summary>The usage export's fields: nothing a spreadsheet would run as a formula (OWASP's CSV injection list).</summary>
public sealed class CsvFieldTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\t=HYPERLINK(1)", "'\t=HYPERLINK(1)")]
    [InlineData("\r=1", "\"'\r=1\"")]
    [InlineData("  =1", "'  =1")]   // spreadsheets skip leading spaces
    [InlineData("stop", "stop")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("", "")]
    public void CsvField_AFormulaPrefix_IsDefusedAndQuotedWhereNeeded(string value, string field) =>
        Assert.Equal(field, UsageEndpoints.CsvField(value));
}
