<%@ page contentType="text/plain; charset=UTF-8" trimDirectiveWhitespaces="true" %><%
    // step.jsp?n=N: the session's counter becomes N if it is N - 1, and is left as it is otherwise. A request that a
    // balancer gave up on and retried elsewhere may still run where it was first sent (a paused Tomcat that resumes):
    // run twice, it counts once, so every answer shows whether the request saw the previous step's write.
    int n = Integer.parseInt(request.getParameter("n"));
    Integer count = (Integer) session.getAttribute("count");
    int before = count == null ? 0 : count;
    if (before == n - 1) {
        session.setAttribute("count", n);
    }
    out.print("count=" + session.getAttribute("count") + " tomcat=" + System.getProperty("msm.packaging.route")
            + " session=" + session.getId() + " customizer=" + System.getProperty("msm.packaging.customized", "no"));
%>
