namespace Workq.Shared.Configuration;

/// <summary>Where handler code runs (<c>WORKQ_ISOLATION</c>).</summary>
public enum HandlerIsolation { Canvas, None }
