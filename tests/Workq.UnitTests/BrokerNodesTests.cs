using Microsoft.Extensions.Configuration;
using Workq.Shared.Configuration;

namespace Workq.UnitTests;

/// <summary>WORKQ_RABBITMQ_URL and WORKQ_RABBITMQ_MANAGEMENT_URL: one URI as always, or one per cluster node.</summary>
public sealed class BrokerNodesTests
{
    private static BrokerOptions Options(string? amqp, string? management = null) =>
        BrokerOptions.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WORKQ_RABBITMQ_URL"] = amqp,
            ["WORKQ_RABBITMQ_MANAGEMENT_URL"] = management,
        }).Build());

    [Fact]
    public void One_uri_is_one_node()
    {
        var nodes = Options("amqp://u:p@broker:5672/v").Amqp;
        Assert.Equal([new Uri("amqp://u:p@broker:5672/v")], nodes.Nodes);
    }

    [Fact]
    public void A_comma_separated_list_is_every_node_in_order_and_spaces_do_not_matter()
    {
        var options = Options(
            "amqp://u:p@rmq1:5672/v, amqp://u:p@rmq2:5672/v ,amqp://u:p@rmq3/v",
            "http://u:p@rmq1:15672/,http://u:p@rmq2:15672/");
        Assert.Equal(["rmq1", "rmq2", "rmq3"], options.Amqp.Nodes.Select(n => n.Host));
        Assert.Equal(["rmq1", "rmq2"], options.Management.Nodes.Select(n => n.Host));
        Assert.Equal("rmq1", options.Amqp.First.Host);
    }

    [Fact]
    public void What_it_prints_for_logs_has_no_credentials()
    {
        var text = Options("amqp://user:secret-password@rmq1:5672/v,amqp://user:secret-password@rmq2:5673/v").Amqp
            .ToString();
        Assert.Equal("rmq1:5672,rmq2:5673", text);
    }

    [Theory]
    [InlineData("amqp://u:p@rmq1/v,amqp://u:other@rmq2/v", "same scheme, user, password and virtual host")]
    [InlineData("amqp://u:p@rmq1/v,amqp://u:p@rmq2/w", "same scheme, user, password and virtual host")]
    [InlineData("amqp://u:p@rmq1/v,amqps://u:p@rmq2/v", "same scheme, user, password and virtual host")]
    [InlineData("amqp://u:p@rmq1/v,rmq2:5672", "not an amqp or amqps URI")]
    [InlineData("http://u:p@rmq1:15672/", "not an amqp or amqps URI")]
    [InlineData(" , ", "is empty")]
    public void A_list_that_cannot_be_one_connection_is_refused_at_start_naming_the_variable(
        string value,
        string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Options(value));
        Assert.StartsWith("WORKQ_RABBITMQ_URL", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain("other", error.Message);
    }
}
