<%@ page contentType="text/plain; charset=UTF-8" trimDirectiveWhitespaces="true" %><%
    // The packaging test's webapp: one JSP, so the same file runs on javax (Tomcat 9) and jakarta (10.1, 11).
    Integer count = (Integer) session.getAttribute("count");
    count = count == null ? 1 : count + 1;
    session.setAttribute("count", count);
    out.print("count=" + count + " tomcat=" + System.getProperty("msm.packaging.route") + " session=" + session.getId()
            + " customizer=" + System.getProperty("msm.packaging.customized", "no"));
%>
