<%@ page contentType="text/html; charset=UTF-8" trimDirectiveWhitespaces="true" %>
<!-- page=login -->
<form method="post" action="<%= request.getContextPath() %>/j_security_check">
  <input name="j_username"> <input name="j_password" type="password"> <button>Log in</button>
</form>
